# Read by the `flask` command (python-dotenv), so `flask sla`, `flask flags list`, `flask export bonus`
# and `flask simulate` work from the project root as the README writes them.
FLASK_APP=aftercall
