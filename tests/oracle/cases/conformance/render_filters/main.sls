{% set data = {'app': {'ports': [80, 443]}, 'name': 'web-01'} %}
as_json:
  test.succeed_without_changes:
    - comment: '{{ data.app | json }}'
as_yaml:
  test.succeed_without_changes:
    - comment: "{{ data.app | yaml }}"
traversed:
  test.succeed_without_changes:
    - comment: "{{ data | traverse('app:ports:1') }} {{ data | traverse('app:nope', 'dflt') }}"
replaced:
  test.succeed_without_changes:
    - comment: {{ data.name | regex_replace('-\\d+$', '') }}
uniq:
  test.succeed_without_changes:
    - names: {{ ['b', 'a', 'b', 'c', 'a'] | unique | yaml }}
