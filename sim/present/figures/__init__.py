"""Figures: charts (Axes in, Axes out), their layout, styles and fonts, diagrams."""
