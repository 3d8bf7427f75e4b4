web_leaf:
  test.succeed_without_changes:
    - comment: {{ sls }}
