"""Built-in optimizers, one module each (registered names in brackets): ``random_search``
(random), ``ga`` (ga, with NSGA-II), ``cross_entropy`` (ce), ``face`` (face),
``evolution_strategies`` (es), ``natural_es`` (nes), ``gradient_descent`` (gd), ``annealing``
(sa), ``tempering`` (pt), ``grid_search`` (gs), ``enkf`` (enkf), ``cmaes`` (cmaes), ``auto``
(auto: picks one of these from the problem); helpers: ``utils`` (unit-cube scaling, fitness
shaping) and ``pareto`` (non-dominated sorting)."""
