"""Call-back tasks: closing the loop with callers the survey says were let down (issue 14)."""
