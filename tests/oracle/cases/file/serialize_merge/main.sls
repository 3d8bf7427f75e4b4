s:
  file.serialize:
    - name: @ROOT@/work/data.json
    - formatter: json
    - merge_if_exists: True
    - dataset:
        a: 2
        c: 3
