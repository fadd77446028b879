;; Ant colony foraging steered by spiking neural networks (l2l-netlogo).
;; The same rules as the Python engine (l2l_netlogo/engine.py). Every setting and the
;; network's weights and delays are globals set from Python BEFORE `setup`, which therefore
;; clears turtles, patches and ticks but not the globals (no clear-all).

globals [
  ;; settings (set from Python)
  world-size n-ants max-ticks substeps n-hidden
  nest-radius food-radius food-per-patch scent-radius
  sense-distance sense-angle turn-angle speed deposit
  diffusion-rate evaporation-rate pheromone-half
  threshold decay max-delay
  weights-list delays-list
  ;; derived at setup
  n-inputs n-motors n-pre n-post syn-pre syn-post
  food-centres active-sources
  ;; outcomes
  delivered first-delivery wasted walked spike-count
]

breed [ants ant]

ants-own [
  carrying?   ;; true while the ant carries one unit of food
  acc         ;; input accumulators (n-inputs)
  v           ;; membrane potentials of hidden and motor neurons (n-post)
  hist        ;; ring buffer of (max-delay + 1) spike vectors of the presynaptic neurons
  motor       ;; motor spike counts of the current tick
]

patches-own [
  chemical     ;; pheromone
  food         ;; units of food
  nest?        ;; true on nest patches
  nest-scent   ;; minus the distance to the nest centre
  source       ;; index of the food source this patch belongs to, -1 if none
  food-scent   ;; scent of the nearest food source that still holds food
]

to setup
  clear-ticks
  clear-turtles
  clear-patches
  clear-drawing
  clear-output
  let m (world-size - 1) / 2
  resize-world (0 - m) m (0 - m) m
  set n-inputs 11
  set n-motors 4
  set n-pre n-inputs + n-hidden
  set n-post n-hidden + n-motors
  build-synapses
  setup-patches
  set delivered 0
  set first-delivery max-ticks
  set wasted 0
  set walked 0
  set spike-count 0
  create-ants n-ants [
    setxy 0 0
    set heading random-float 360
    set carrying? false
    set acc n-values n-inputs [ 0 ]
    set v n-values n-post [ 0 ]
    set hist n-values (max-delay + 1) [ n-values n-pre [ 0 ] ]
    set motor n-values n-motors [ 0 ]
  ]
  reset-ticks
end

;; synapses row-major by presynaptic neuron (inputs, then hidden), targets in order (hidden,
;; then motors); inputs project to hidden neurons only: the flat order of weights-list
to build-synapses
  set syn-pre []
  set syn-post []
  foreach range n-pre [ p ->
    foreach range n-post [ q ->
      if p >= n-inputs or q < n-hidden [
        set syn-pre lput p syn-pre
        set syn-post lput q syn-post
      ]
    ]
  ]
  if length weights-list != length syn-pre or length delays-list != length syn-pre [
    error (word "expected " length syn-pre " weights and delays, got " length weights-list
      " and " length delays-list)
  ]
end

to setup-patches
  let m max-pxcor
  set food-centres (list (list (0.6 * m) 0) (list (-0.6 * m) (-0.6 * m)) (list (-0.8 * m) (0.8 * m)))
  ask patches [
    set chemical 0
    let d-nest distancexy 0 0
    set nest? d-nest < nest-radius
    set nest-scent 0 - d-nest
    let dists map [ c -> distancexy (item 0 c) (item 1 c) ] food-centres
    let d-food min dists
    set source ifelse-value (d-food < food-radius) [ position d-food dists ] [ -1 ]
    set food ifelse-value (d-food < food-radius) [ food-per-patch ] [ 0 ]
  ]
  set active-sources []
  update-food-scent
end

;; food scent comes from the sources that still hold food (recomputed when one empties)
to update-food-scent
  let active filter [ s -> any? patches with [ source = s and food > 0 ] ] range length food-centres
  if active != active-sources [
    set active-sources active
    ask patches [
      let scents map [ s -> scent-radius - distancexy (item 0 item s food-centres) (item 1 item s food-centres) ] active
      set food-scent max fput 0 scents
    ]
  ]
end

to go
  ask ants [ think ]
  foreach sort ants [ a -> ask a [ act ] ]
  update-food-scent
  diffuse chemical diffusion-rate
  ask patches [ set chemical chemical * (1 - evaporation-rate) ]
  tick
end

to run-colony
  repeat max-ticks [ go ]
end

;; ant procedure: sense, then run the network for `substeps` steps
to think
  let sensors sense
  set motor n-values n-motors [ 0 ]
  let k 0
  repeat substeps [
    network-step sensors (ticks * substeps + k)
    set k k + 1
  ]
end

;; ant procedure: the 11 sensor values, in [0, 1]
to-report sense
  let left-patch sensed-patch (0 - sense-angle) sense-distance
  let right-patch sensed-patch sense-angle sense-distance
  let pl [ chemical ] of left-patch
  let pr [ chemical ] of right-patch
  let df ([ food-scent ] of left-patch) - ([ food-scent ] of right-patch)
  let dn ([ nest-scent ] of left-patch) - ([ nest-scent ] of right-patch)
  report (list
    (pl / (pl + pheromone-half)) (pr / (pr + pheromone-half))
    (clip01 df) (clip01 (0 - df)) (clip01 dn) (clip01 (0 - dn))
    (ifelse-value carrying? [ 1 ] [ 0 ]) (ifelse-value carrying? [ 0 ] [ 1 ])
    (ifelse-value (can-move? 1) [ 0 ] [ 1 ])
    (random-float 1)
    1)
end

;; ant procedure: the patch `dist` ahead at `angle` degrees right, or its own outside the world
to-report sensed-patch [ angle dist ]
  let p patch-right-and-ahead angle dist
  report ifelse-value (p = nobody) [ patch-here ] [ p ]
end

to-report clip01 [ x ]
  report max (list 0 (min (list 1 x)))
end

;; ant procedure: one network step; a spike of presynaptic neuron p emitted at step s reaches
;; its target at step s + delay
to network-step [ sensors now ]
  set acc (map + acc sensors)
  let s-in map [ a -> ifelse-value (a >= 1) [ 1 ] [ 0 ] ] acc
  set acc (map - acc s-in)
  let slots max-delay + 1
  let current n-values n-post [ 0 ]
  (foreach syn-pre syn-post weights-list delays-list [ [ p q wt dl ] ->
    if item p (item ((now - dl) mod slots) hist) = 1 [
      set current replace-item q current (item q current + wt)
    ]
  ])
  set v (map [ [ x i ] -> x * decay + i ] v current)
  let fired map [ x -> ifelse-value (x >= threshold) [ 1 ] [ 0 ] ] v
  set v (map [ [ x f ] -> ifelse-value (f = 1) [ 0 ] [ x ] ] v fired)
  set hist replace-item (now mod slots) hist (sentence s-in (sublist fired 0 n-hidden))
  set motor (map + motor (sublist fired n-hidden n-post))
  set spike-count spike-count + sum fired
end

;; ant procedure: turn, walk, lay pheromone, drop or pick up food
to act
  let turn-l item 0 motor
  let turn-r item 1 motor
  let fwd item 2 motor
  let lay item 3 motor
  rt turn-angle * (turn-r - turn-l)
  set wasted wasted + min (list turn-l turn-r)
  if fwd > 0 [
    let dist speed * fwd / substeps
    ifelse can-move? dist [
      fd dist
      set walked walked + dist
    ] [
      set wasted wasted + 1
    ]
  ]
  if carrying? and lay > 0 [ set chemical chemical + deposit ]
  ifelse carrying? [
    if nest? [
      set carrying? false
      set delivered delivered + 1
      if delivered = 1 [ set first-delivery ticks + 1 ]
      rt 180
    ]
  ] [
    if food > 0 [
      set carrying? true
      set food food - 1
      rt 180
    ]
  ]
end

to-report carried
  report count ants with [ carrying? ]
end
@#$#@#$#@
GRAPHICS-WINDOW
210
10
587
388
-1
-1
9.0
1
10
1
1
1
0
0
0
1
-20
20
-20
20
1
1
1
ticks
30.0

BUTTON
20
20
100
53
NIL
setup
NIL
1
T
OBSERVER
NIL
NIL
NIL
NIL
1

BUTTON
110
20
190
53
NIL
go
T
1
T
OBSERVER
NIL
NIL
NIL
NIL
0

@#$#@#$#@
## WHAT IS IT?

Ant colony foraging steered by spiking neural networks, written for the l2l-netlogo plugin.
Ants leave the nest, sense pheromone (left/right), food and nest scent; the senses drive a
small spiking network (leaky integrate-and-fire neurons with synaptic delays) whose motor
neurons turn the ant left or right, move it forward and make it lay pheromone while it
carries food. The fitness is the food returned to the nest.

## HOW TO USE IT

The globals (settings, `weights-list`, `delays-list`) are set from Python by l2l before
`setup`; then `run-colony` runs `max-ticks` ticks. See the l2l-netlogo README.
@#$#@#$#@
default
true
0
Polygon -7500403 true true 150 5 40 250 150 205 260 250

bug
true
0
Circle -7500403 true true 96 182 108
Circle -7500403 true true 110 127 80
Circle -7500403 true true 110 75 80
Line -7500403 true 150 100 80 30
Line -7500403 true 150 100 220 30
@#$#@#$#@
NetLogo 6.4.0
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
default
0.0
-0.2 0 0.0 1.0
0.0 1 1.0 0.0
0.2 0 0.0 1.0
link direction
true
0
Line -7500403 true 150 150 90 180
Line -7500403 true 150 150 210 180
@#$#@#$#@
0
@#$#@#$#@
