first:
  test.succeed_with_changes
second:
  test.succeed_with_changes:
    - comment: only me
third:
  test.fail_without_changes
