{% set data = {'b': [1, 2], 'a': {'x': 'y'}, 'u': 'é'} %}
{% set printed %}{{ {'a': 'x\ny', 'b': [1, {'c': none}], 'o': odict([('z', 1), ('a', 2)]), 't': 'it\'s'} }}{% endset %}
text:
  test.nop:
    - regex_search: {{ ['abcd' | regex_search('^(.*)BC(.*)$', ignorecase=True), 'abcd' | regex_search('bc'), 'abcd' | regex_search('x')] | json }}
    - regex_match: {{ ['abcd' | regex_match('(a)b'), 'abcd' | regex_match('b'), 'a\nb' | regex_match('^b', multiline=True)] | json }}
    - regex_replace: {{ 'lets replace  spaces' | regex_replace('\s+', '__') | json }}
    - regex_escape: {{ 'a.b*c' | regex_escape | json }}
    - yaml_dquote: {{ 'say "hi"\n' | yaml_dquote | json }}
    - yaml_squote: {{ "it's" | yaml_squote | json }}
    - yaml_encode: {{ ['x y' | yaml_encode, 3 | yaml_encode, true | yaml_encode, none | yaml_encode, 1.5 | yaml_encode] | json }}
    - to_num: {{ ['42' | to_num, '4.5' | to_num, 'x' | to_num] | json }}
    - is_hex: {{ ['ff0A' | is_hex, 'xyz' | is_hex] | json }}
    - contains_whitespace: {{ ['a b' | contains_whitespace, 'ab' | contains_whitespace] | json }}
    - human_to_bytes: {{ ['2K' | human_to_bytes, '1.5 MiB' | human_to_bytes, '3kb' | human_to_bytes, '3kb' | human_to_bytes(handle_metric=True), 'junk' | human_to_bytes, '10' | human_to_bytes] | json }}
    - case: {{ ['camelCaseString' | to_snake_case, 'HTTPServer' | to_snake_case, 'snake_case_here' | to_camelcase, 'snake_case' | to_camelcase(uppercamel=True)] | json }}
    - path_join: {{ ['/etc' | path_join('/app/', 'conf.d', 'x.conf'), 'a' | path_join('b'), '/a/../b' | path_join] | json }}
    - quote: {{ "it's here" | quote | json }}
    - uuid: {{ 'example' | uuid | json }}
    - yaml: {{ data | yaml | json }}
    - yaml_block: {{ data | yaml(False) | json }}
    - json: {{ data | json | json }}
    - json_indent: {{ data | json(indent=2) | json }}
    - tojson: {{ {'h': '<a href=\'x\'>&'} | tojson | json }}
    - python: {{ data | python | json }}
    - sls_params: {{ {'name': 'x', 'mode': '0644'} | dict_to_sls_yaml_params | json }}
    - load_yaml: {{ 'a: [1, 2]\nb: 0644\nc: 2020-01-02' | load_yaml | json }}
    - load_json: {{ '{"a": [1, 2]}' | load_json | json }}
    - strftime: {{ ['1040814000' | strftime, 1040814000 | strftime('%Y/%m/%d %H') | length] | json }}
    - hashes: {{ ['abc' | md5, 'abc' | sha1, 'abc' | sha256, 'abc' | sha512 | length] | json }}
    - base64: {{ ['hello' | base64_encode, 'aGVsbG8=' | base64_decode] | json }}
    - hmac: {{ ['msg' | hmac_compute('key'), 'msg' | hmac('key', 'bG8=')] | json }}
    - random: {{ [100 | random_hash | length, 20 | random_hash('sha256') | length, 8 | random_str | length] | json }}
    - printed: {{ printed | json }}
    - indent: {{ 'a\nb\n\nc' | indent(2) | json }}
