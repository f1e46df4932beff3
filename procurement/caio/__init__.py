"""The CAIO's desk: systems in operation, the incident register, portfolio figures and the
periodic and board reports."""
