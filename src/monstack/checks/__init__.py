"""In-process checks of the resolved model: one module per family, each a function from the model (and the spec's
positions) to findings. The model and the renderers import no check."""
