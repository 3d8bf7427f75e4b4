chg:
  test.succeed_with_changes
listener:
  test.succeed_without_changes:
    - listen:
      - test: chg
other:
  test.succeed_without_changes
inlisten:
  test.succeed_without_changes:
    - listen_in:
      - test: other2
other2:
  test.succeed_with_changes
