web-1:
  test.succeed_with_changes
web-2:
  test.succeed_without_changes
db:
  test.succeed_without_changes:
    - require:
      - test: web-*
db2:
  test.succeed_without_changes:
    - onchanges:
      - test: web-?
