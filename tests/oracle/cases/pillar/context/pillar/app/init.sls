base: &base
  port: 80
  name: web
merged:
  <<: *base
  port: 8080
  names: {{ [sls, tplfile, tpldir] | json }}
