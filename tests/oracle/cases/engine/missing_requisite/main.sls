a:
  test.succeed_without_changes:
    - require:
      - test: nothere
b:
  test.succeed_without_changes
c:
  test.succeed_without_changes:
    - require:
      - sls: nosuch
    - watch:
      - test: alsonothere
