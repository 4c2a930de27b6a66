"""Keras trainers: one keras.Model subclass per training scheme."""
