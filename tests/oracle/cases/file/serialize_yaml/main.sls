s:
  file.serialize:
    - name: @ROOT@/work/data.yaml
    - serializer: yaml
    - mode: '0640'
    - dataset:
        name: app
        ports: [80, 443]
