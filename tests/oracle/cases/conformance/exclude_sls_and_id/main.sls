include:
  - parta
  - partb
exclude:
  - sls: parta
  - id: b_two
main_state:
  test.succeed_without_changes
