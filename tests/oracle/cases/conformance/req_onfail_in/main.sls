recover:
  test.succeed_with_changes
never_needed:
  test.succeed_with_changes
broken:
  test.fail_without_changes:
    - onfail_in:
      - test: recover
fine:
  test.succeed_without_changes:
    - onfail_in:
      - never_needed
