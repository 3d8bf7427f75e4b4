target_first:
  test.succeed_with_changes
fails_first:
  test.fail_without_changes:
    - prereq:
      - test: target_first
