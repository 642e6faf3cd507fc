"""The four services: intake (受理入口), casework (办理), notify (通知), analytics (研判)."""
