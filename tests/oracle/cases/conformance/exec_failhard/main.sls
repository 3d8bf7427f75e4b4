first:
  test.succeed_with_changes
soft_failure:
  test.fail_without_changes
hard_failure:
  test.fail_without_changes:
    - failhard: True
never_runs:
  test.succeed_with_changes
