"""The exact solver's pieces, shared by the planners (planners/ holds only the planners).

  cover      least-cost integer cover of one module at one slowest batch time
  frontier   a module's exact (budget, cost) frontier, and the fluid one
  split      the exact split of the SLO over the DAG (series-parallel, live-cut DP, MILP)
  bounds     configurations, budget caps, the fluid lower bound, the least feasible SLO
  assemble   frontier points turned into the plan's groups, module plans and shared workers
  sharing    shared workers searched jointly with the split (the exact planner's node merging)
  candidates its candidate bins, best bound first;  floors, bin_bounds: its cheap proofs a bin cannot win
  merging    Harpagon's greedy residual merging;  squishy: Nexus's squishy bin packing
  pools      modules that run one model served by one pool (one app or a fleet)
"""
