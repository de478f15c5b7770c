//! Node behaviours, each as a script of inputs.
