/* libswco: symbol export macro.
 *
 * Only functions declared with SWCO_API are part of the ABI; the library is
 * built with -fvisibility=hidden, so everything else stays internal.  SWIG
 * sees the macro as empty.
 */
#ifndef SWCO_EXPORT_H
#define SWCO_EXPORT_H

#if defined(SWIG)
#define SWCO_API
#elif defined(SWCO_BUILDING_LIBRARY) && defined(__GNUC__)
#define SWCO_API __attribute__((visibility("default")))
#else
#define SWCO_API
#endif

#ifdef __cplusplus
#define SWCO_BEGIN_DECLS extern "C" {
#define SWCO_END_DECLS }
#else
#define SWCO_BEGIN_DECLS
#define SWCO_END_DECLS
#endif

#endif /* SWCO_EXPORT_H */
