before_change:
  test.succeed_with_changes:
    - prereq:
      - test: would_change
before_nothing:
  test.succeed_with_changes:
    - prereq:
      - test: would_not_change
would_change:
  test.succeed_with_changes
would_not_change:
  test.succeed_without_changes
