r:
  file.replace:
    - name: @ROOT@/work/f.conf
    - pattern: 'value'
    - repl: VALUE
    - count: 1
    - flags: ['IGNORECASE']
    - backup: False
