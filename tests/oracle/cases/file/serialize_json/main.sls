s:
  file.serialize:
    - name: @ROOT@/work/data.json
    - formatter: json
    - dataset:
        b: [1, 2]
        a:
          x: true
