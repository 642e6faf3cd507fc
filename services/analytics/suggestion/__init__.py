"""Suggestions analytics offers casework for each received petition: the routing model's
category with its confidence (``analytics.routing.suggested``) and repeat links with the
first-petition flag (``analytics.repeat.suggested``)."""
