"""The losses as JAX functions of (input, target), mean reduction, for the JAX peer.

Imports neither fastloss nor NumPy at module level: ``hotloop.py`` runs JAX in an
interpreter of its own, which need not have fastloss installed.
"""

import math


def jax_loss(name):
    """``name``'s loss as a JAX function, or None where it is not written here."""
    import jax
    import jax.numpy as jnp

    fns = {
        "mse_loss": lambda x, y: jnp.mean((x - y) ** 2),
        "l1_loss": lambda x, y: jnp.mean(jnp.abs(x - y)),
        "poisson_nll_loss": lambda x, y: jnp.mean(jnp.exp(x) - y * x),
        "log_cosh_loss": lambda x, y: jnp.mean(jnp.logaddexp(x - y, y - x) - math.log(2.0)),
        "binary_cross_entropy_with_logits":
            lambda x, y: jnp.mean(jnp.maximum(x, 0) - x * y + jnp.log1p(jnp.exp(-jnp.abs(x)))),
        "cross_entropy":  # class-index targets
            lambda x, y: jnp.mean(jax.nn.logsumexp(x, axis=1)
                                  - jnp.take_along_axis(x, y[:, None], axis=1)[:, 0]),
    }
    return fns.get(name)
