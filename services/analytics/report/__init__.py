"""Reports of the analytics service: 日快报, 周预警, 月研判 and the statistics tables."""
