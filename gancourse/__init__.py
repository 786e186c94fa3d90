"""gancourse: the helper package behind the GAN course notebooks.

Modules, one concept each: ``runtime`` (device, seeds, quick mode), ``data`` (MNIST),
``losses``, ``models``, ``training`` (the one training loop), ``checks`` (exercise checks),
``exercises`` (generates exercise notebooks from solutions).
"""
__version__ = "0.1.0"
