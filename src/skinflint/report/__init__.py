"""Human-readable output: terminal tables now; HTML reports and plots later."""
