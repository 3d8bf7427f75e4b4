kv:
  file.keyvalue:
    - name: @ROOT@/work/sshd.conf
    - key: PermitRootLogin
    - value: 'no'
    - separator: ' '
    - uncomment: '#'
