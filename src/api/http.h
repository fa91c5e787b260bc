// The owner API's HTTP types, from web/http.h, under their api:: names.
#ifndef WARDEN_API_HTTP_H_
#define WARDEN_API_HTTP_H_

#include "web/http.h"

namespace warden::api {

namespace http = web::http;
using web::ApiError;
using web::EmptyResponse;
using web::ErrorFromStatus;
using web::ErrorResponse;
using web::HttpLimits;
using web::HttpStatusFor;
using web::JsonResponse;
using web::Request;
using web::Response;

}  // namespace warden::api

#endif  // WARDEN_API_HTTP_H_
