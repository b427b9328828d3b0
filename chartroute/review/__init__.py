"""The classification review: does chartroute read this practice's charts right?

Before a practice goes live its ops lead reviews a sample of chartroute's decisions against the
EHR: ``sample`` draws it from the store as a sheet (``sheet`` is the sheet's contract: columns,
verdicts, reading and writing), ``verdicts`` stores what the reviewer said, and ``accuracy``
measures each category's precision with its Wilson interval (``wilson``) and says whether it is
ready. Identifiers and counts only: a sheet holds chart ids and EHR links, never patient data.
"""
