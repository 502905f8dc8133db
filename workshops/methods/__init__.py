"""The method library: workshop templates as versioned JSON documents, and the built-in methods.

``document`` holds the format (strict validation, summaries), ``convert`` goes
between a workshop and a document, ``builtin`` has the methods every
facilitator starts from.
"""
