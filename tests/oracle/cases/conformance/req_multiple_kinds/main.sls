pkg:
  test.succeed_with_changes
conf:
  test.succeed_with_changes:
    - require:
      - test: pkg
service:
  test.succeed_without_changes:
    - require:
      - test: pkg
    - watch:
      - test: conf
notify:
  test.succeed_with_changes:
    - onchanges:
      - test: service
cleanup:
  test.succeed_with_changes:
    - onfail:
      - test: service
