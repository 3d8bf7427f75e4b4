base_state:
  test.succeed_without_changes:
    - comment: shared comment
user:
  test.succeed_without_changes:
    - use:
      - test: base_state
giver:
  test.succeed_with_changes:
    - comment: given
    - use_in:
      - test: taker
taker:
  test.succeed_with_changes
