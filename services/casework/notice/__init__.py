"""Notices (告知书, 意见书, 调解协议书): the kinds and their legal content (``kinds``), the
versioned DOCX templates and the PDF layout (``render``), issuing with a 文号, storing and
recording delivery (``service``), and the reply paragraphs handlers start from (``replies``).
"""
