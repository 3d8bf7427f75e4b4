include:
  - part_a
  - part_b
  - keep
exclude:
  - sls: part_*
main_state:
  test.succeed_without_changes
