chg:
  test.succeed_with_changes
nochg:
  test.succeed_without_changes
any1:
  test.succeed_without_changes:
    - onchanges_any:
      - test: chg
      - test: nochg
any2:
  test.succeed_without_changes:
    - onchanges_any:
      - test: nochg
