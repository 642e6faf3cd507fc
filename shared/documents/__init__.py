"""Documents the services print: PDF building blocks shared by the registrar's receipt slip
and casework's notices (``shared.documents.pdf``)."""
