would_change:
  test.succeed_with_changes
on_fail_handler:
  test.succeed_with_changes:
    - onfail:
      - test: would_change
before_it:
  test.succeed_with_changes:
    - prereq:
      - test: would_change
