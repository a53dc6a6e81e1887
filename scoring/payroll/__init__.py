"""Pay periods, their locks and the bonus exports for payroll."""
