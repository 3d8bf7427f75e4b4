leaf_vars:
  test.succeed_without_changes:
    - comment: "{{ sls }}|{{ slspath }}|{{ tpldir }}|{{ tplfile }}|{{ sls_path }}"
