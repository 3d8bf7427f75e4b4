{% set d = {'a': {'b': [10, {'c': 'deep'}], '1': 'one'}, 'n': {1: 'int key'}} %}
{% set l = ['b', 'a', 'b', 'c', 'a'] %}
{% set acc = {} %}
{% do acc | set_dict_key_value('x:y', 1) %}
{% do acc | update_dict_key_value('x:z', {'k': 2}) %}
{% do acc | append_dict_key_value('x:l', 3) %}
{% do acc | extend_dict_key_value('x:l', [4, 5]) %}
data:
  test.nop:
    - traverse: {{ [d | traverse('a:b:0'), d | traverse('a:b:c'), d | traverse('a:1'),
                    d | traverse('n:1'), d | traverse('a:x', 'dflt'), d | traverse('a/b/1/c', delimiter='/'),
                    d | traverse('a:b:5')] | json }}
    - unique: {{ l | unique | json }}
    - sequence: {{ ['x' | sequence, [1] | sequence, {'k': 1} | sequence] | json }}
    - to_bool: {{ ['yes' | to_bool, 'On' | to_bool, 'TRUE' | to_bool, 0 | to_bool, 2 | to_bool,
                   none | to_bool, [] | to_bool, [0] | to_bool, 'no' | to_bool] | json }}
    - is_list: {{ [l | is_list, 'x' | is_list, (1, 2) | is_list] | json }}
    - is_iter: {{ [l | is_iter, 'x' | is_iter, d | is_iter, 3 | is_iter] | json }}
    - tests: {{ [l is list, 'abc' is match('a.c'), 'ABC' is match('a', ignorecase=True), 3 is equalto(3)] | json }}
    - compare_dicts: {{ {'a': 1, 'b': 2, 'c': 3} | compare_dicts({'a': 1, 'b': 5, 'd': 4}) | json }}
    - compare_lists: {{ [1, 2, 3] | compare_lists([2, 3, 4]) | json }}
    - flatten: {{ [[1, [2, [3]]], none, 'x', [4]] | flatten | json }}
    - flatten1: {{ [[1, [2, [3]]], none, [4]] | flatten(levels=1, preserve_nulls=True) | json }}
    - union: {{ [1, 2, 3] | union([2, 4]) | json }}
    - intersect: {{ [1, 2, 3] | intersect([2, 3, 4]) | json }}
    - difference: {{ [1, 2, 3] | difference([2, 4]) | json }}
    - symmetric_difference: {{ [1, 2, 3] | symmetric_difference([2, 4]) | json }}
    - minmaxavg: {{ [[3, 1, 2] | min, [3, 1, 2] | max, [1, 2] | avg, 5 | avg] | json }}
    - to_entries: {{ {'a': 1, 'b': 2} | to_entries | json }}
    - list_entries: {{ ['x', 'y'] | to_entries | json }}
    - from_entries: {{ [{'key': 'a', 'value': 1}, {'Name': 'b', 'Value': 2}] | from_entries | json }}
    - dict_keys: {{ acc | json }}
    - exactly: {{ [[0, 1, none] | exactly_one_true, [1, 1, 0] | exactly_n_true(2), [1, 1] | exactly_one_true] | json }}
    - substring_in_list: {{ ['bc' | substring_in_list(['abcd', 'x']), 'q' | substring_in_list(['abc'])] | json }}
    - sorted_ignorecase: {{ ['foo', 'Foo', 'bar', 'Bar'] | sorted_ignorecase | json }}
    - combinations: {{ [1, 2, 3] | combinations(2) | list | json }}
    - product: {{ [1, 2] | product(['a', 'b']) | list | json }}
    - zip: {{ [1, 2] | zip(['a', 'b']) | list | json }}
    - zip_longest: {{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') | list | json }}
    - permutations: {{ 'ab' | permutations | list | json }}
    - odict: {{ odict([('z', 1), ('a', 2)]) | json(sort_keys=False) }}
    - method_call: {{ ['a,b' | method_call('split', ','), 3 | method_call('nothere')] | json }}
    - skip: "{{ 'gone' | skip }}"
    - random_shuffle: {{ [1, 2, 3, 4, 5] | random_shuffle(seed='x') | length }}
