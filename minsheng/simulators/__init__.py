"""Simulators of the outside partners, speaking their contracts over HTTP on 127.0.0.1: the SMS
gateway now; the 12345 hotline and the provincial platform join them with their issues."""
