// Package plotting draws the pictures of the MNIST fully-connected-network
// assignment: training curves, first-layer weights, confusion matrices,
// hyper-parameter heat maps and galleries of test digits.
//
// Charts (Curves, CurvesCompare, ConfusionMatrix, Heatmap) are drawn with
// gonum.org/v1/plot and encoded as PNG (96 dpi) or SVG; image grids
// (WeightsGrid, WeightsSeries, DigitGallery) are plain grayscale rasters
// built with the standard library's image package and encoded as PNG.
//
// Every function checks its input and returns an error naming the problem
// (empty history, mismatched lengths, class out of range, ...) instead of
// panicking.
package plotting
