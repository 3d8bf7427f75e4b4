broken:
  test.fail_without_changes
fine:
  test.succeed_without_changes
on_broken:
  test.succeed_with_changes:
    - onfail:
      - test: broken
on_fine:
  test.succeed_with_changes:
    - onfail:
      - test: fine
