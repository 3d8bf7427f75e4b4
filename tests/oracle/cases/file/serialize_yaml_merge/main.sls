s:
  file.serialize:
    - name: @ROOT@/work/c.yaml
    - merge_if_exists: True
    - dataset:
        app:
          port: 8080
