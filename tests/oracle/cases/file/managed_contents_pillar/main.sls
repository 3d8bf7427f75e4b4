conf:
  file.managed:
    - name: @ROOT@/work/secret.conf
    - contents_pillar: app:secret
    - mode: '0600'
