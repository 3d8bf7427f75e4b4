changer:
  test.succeed_with_changes
quiet_one:
  test.succeed_without_changes
quiet_two:
  test.succeed_without_changes
any_changed:
  test.succeed_with_changes:
    - onchanges_any:
      - test: quiet_one
      - test: changer
none_changed:
  test.succeed_with_changes:
    - onchanges_any:
      - test: quiet_one
      - test: quiet_two
