broken:
  test.fail_with_changes
on_broken:
  test.succeed_with_changes:
    - onchanges:
      - test: broken
